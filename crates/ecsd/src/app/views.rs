//! Model records → wire views. The only place that knows both shapes.

use ecs_model::flavor::{self, Flavor};
use ecs_model::image::Image;
use ecs_model::job::{parent_status, Job};
use ecs_model::network::{Subnet, Vpc};
use ecs_model::timefmt::{job_time, micro_time, server_time};
use ecs_store::ServerRow;
use ecs_types::flavor::{AttachableQuantity, FlavorLink, FlavorView};
use ecs_types::image::ImageInfo;
use ecs_types::job::{JobEntities, JobView, SubJobEntities, SubJobView};
use ecs_types::network::{SubnetView, VpcView};
use ecs_types::server::*;
use std::collections::BTreeMap;

/// `ServerDetail` of a server and its volumes.
pub fn server_detail(row: &ServerRow) -> ServerDetail {
    let s = &row.server;
    let fl = flavor::find(&s.flavor_id);
    // Servers created before they were placed have no host; they show the old fixed name.
    let host = s.host.clone().unwrap_or_else(|| "ecsd".into());
    // Every NIC, by VPC, the primary first (added NICs are in the server's VPC).
    let mut addresses: BTreeMap<String, Vec<ServerAddress>> = BTreeMap::new();
    for n in s.nics() {
        addresses.entry(n.vpc_id.clone()).or_default().push(ServerAddress {
            version: "4".into(),
            addr: n.ip.clone(),
            ip_type: "fixed".into(),
            mac_addr: n.mac.clone(),
            port_id: n.port_id.clone(),
            primary: n.port_id == s.network.port_id,
        });
    }
    let mut metadata = s.metadata.clone();
    metadata.insert("vpc_id".into(), s.network.vpc_id.clone());
    metadata.insert("charging_mode".into(), "0".into());
    metadata.insert("metering.resourcespeccode".into(), format!("{}.linux", s.flavor_id));
    metadata.insert("metering.resourcetype".into(), "1".into());
    metadata.insert("virtual_env_type".into(), "FusionCompute".into());
    metadata.insert("EcmResStatus".into(), if s.locked { "freeze".into() } else { "normal".into() });
    ServerDetail {
        id: s.id.clone(),
        name: s.name.clone(),
        description: s.description.clone(),
        status: s.status().to_string(),
        vm_state: s.vm_state.as_str().to_string(),
        task_state: s.task_state.map(|t| t.as_str().to_string()),
        power_state: s.vm_state.power_state(),
        image: ImageRef { id: s.image_id.clone() },
        flavor: ServerFlavor {
            id: s.flavor_id.clone(),
            name: s.flavor_id.clone(),
            disk: fl.map(|f| f.disk_gb).unwrap_or(0).to_string(),
            vcpus: fl.map(|f| f.vcpus).unwrap_or(0).to_string(),
            ram: fl.map(|f| f.ram_mb).unwrap_or(0).to_string(),
            gpus: vec![],
            asic_accelerators: vec![],
        },
        metadata,
        key_name: s.key_name.clone(),
        volumes_attached: row
            .volumes
            .iter()
            .filter(|v| v.boot_index.is_some())
            .map(|v| VolumeAttachment {
                id: v.id.clone(),
                delete_on_termination: v.delete_on_termination.to_string(),
                boot_index: v.boot_index.unwrap_or(-1).to_string(),
                device: v.device.clone(),
            })
            .collect(),
        created: server_time(s.created_ms),
        updated: server_time(s.updated_ms),
        locked: s.locked,
        addresses,
        security_groups: s
            .security_groups
            .iter()
            .map(|id| SecurityGroupRef { id: id.clone(), name: "default".into() })
            .collect(),
        tenant_id: s.project_id.clone(),
        user_id: s.user_id.clone(),
        availability_zone: s.availability_zone.clone(),
        host: host.clone(),
        hostname: s.hostname.clone(),
        hypervisor_hostname: host,
        instance_name: format!("instance-{}", &s.id[..8.min(s.id.len())]),
        kernel_id: String::new(),
        ramdisk_id: String::new(),
        root_device_name: ecs_model::volume::SYSTEM_DEVICE.into(),
        reservation_id: s.reservation_id.clone(),
        user_data: s.user_data.clone().unwrap_or_default(),
        launch_index: s.launch_index,
        launched_at: s.launched_ms.map(micro_time),
        terminated_at: None,
        disk_config: "MANUAL".into(),
        access_ipv4: String::new(),
        access_ipv6: String::new(),
        config_drive: String::new(),
        progress: if s.status() == "ACTIVE" || s.status() == "SHUTOFF" { Some(100) } else { Some(0) },
        fault: s.fault.as_ref().map(|f| ServerFault {
            code: f.code,
            created: server_time(f.created_ms),
            message: f.message.clone(),
            details: String::new(),
        }),
        host_status: "UP".into(),
        host_id: "ecsd".into(),
        enterprise_project_id: s.enterprise_project_id.clone(),
        tags: super::tags::shown(s),
        sys_tags: vec![SysTag { key: "_sys_enterprise_project_id".into(), value: s.enterprise_project_id.clone() }],
        scheduler_hints: scheduler_hints(s),
        auto_terminate_time: s.auto_terminate_ms.map(ecs_model::timefmt::server_time).unwrap_or_default(),
    }
}

/// `os:scheduler_hints`: the server group the server was created in, if any.
pub fn scheduler_hints(s: &ecs_model::server::Server) -> BTreeMap<String, Vec<String>> {
    s.server_group.iter().map(|g| ("group".to_string(), vec![g.clone()])).collect()
}

fn end_time(j: &Job) -> String {
    j.end_ms.map(job_time).unwrap_or_default()
}

/// The job view; a batch parent's status and end time are derived from its sub-jobs.
pub fn job_view(job: &Job, children: &[Job]) -> JobView {
    if children.is_empty() {
        return JobView {
            status: job.status.as_str().to_string(),
            entities: JobEntities {
                server_id: job.server_id.clone(),
                volume_id: job.volume_id.clone(),
                sub_jobs: None,
                sub_jobs_total: 0,
            },
            job_id: job.id.clone(),
            job_type: job.job_type.clone(),
            begin_time: job_time(job.begin_ms),
            end_time: end_time(job),
            error_code: job.error_code.clone(),
            fail_reason: job.fail_reason.clone(),
        };
    }
    let status = parent_status(children);
    let failed: Vec<&Job> = children.iter().filter(|c| c.error_code.is_some()).collect();
    let end = if status.is_final() { children.iter().filter_map(|c| c.end_ms).max() } else { None };
    JobView {
        status: status.as_str().to_string(),
        entities: JobEntities {
            server_id: None,
            volume_id: None,
            sub_jobs: Some(
                children
                    .iter()
                    .map(|c| SubJobView {
                        status: c.status.as_str().to_string(),
                        entities: SubJobEntities {
                            server_id: c.server_id.clone(),
                            errorcode_message: c.fail_reason.clone(),
                        },
                        job_id: c.id.clone(),
                        job_type: c.job_type.clone(),
                        begin_time: job_time(c.begin_ms),
                        end_time: end_time(c),
                        error_code: c.error_code.clone(),
                        fail_reason: c.fail_reason.clone(),
                    })
                    .collect(),
            ),
            sub_jobs_total: children.len() as i64,
        },
        job_id: job.id.clone(),
        job_type: job.job_type.clone(),
        begin_time: job_time(job.begin_ms),
        end_time: end.map(job_time).unwrap_or_default(),
        error_code: if status == ecs_model::job::JobStatus::Fail {
            failed.first().and_then(|c| c.error_code.clone())
        } else {
            None
        },
        fail_reason: if status == ecs_model::job::JobStatus::Fail {
            Some(format!(
                "{} of {} sub-jobs failed: {}",
                failed.len(),
                children.len(),
                failed.first().and_then(|c| c.fail_reason.clone()).unwrap_or_default()
            ))
        } else {
            None
        },
    }
}

/// IMS `ImageInfo`.
pub fn image_info(i: &Image) -> ImageInfo {
    let t = server_time(i.created_ms);
    ImageInfo {
        id: i.id.clone(),
        name: i.name.clone(),
        os_type: i.os_type.clone(),
        platform: i.platform.clone(),
        os_version: i.os_version.clone(),
        os_bit: i.os_bit.clone(),
        image_type: i.image_type.clone(),
        is_registered: "true".into(),
        image_size: i.size_bytes.to_string(),
        image_source_type: "uds".into(),
        support_kvm: "true".into(),
        is_config_init: i.cloud_init.to_string(),
        description: if i.cloud_init {
            "Cloud-Init installed."
        } else {
            "No Cloud-Init: use the /v1 reinstall and change-OS APIs."
        }
        .into(),
        min_disk: i.min_disk,
        min_ram: i.min_ram,
        size: i.size_bytes,
        status: i.status.clone(),
        visibility: i.visibility.clone(),
        owner: i.owner.clone().unwrap_or_default(),
        protected: i.owner.is_none(),
        container_format: "bare".into(),
        disk_format: i.disk_format.clone(),
        virtual_env_type: "FusionCompute".into(),
        tags: vec![],
        created_at: t.clone(),
        updated_at: t.clone(),
        active_at: t,
        self_link: format!("/v2/images/{}", i.id),
        file: format!("/v2/images/{}/file", i.id),
        schema: "/v2/schemas/image".into(),
        architecture: "x86".into(),
    }
}

/// A flavor of the catalog.
pub fn flavor_view(f: &Flavor, project_id: &str) -> FlavorView {
    let specs = flavor_extra_specs(f);
    FlavorView {
        id: f.id.into(),
        name: f.id.into(),
        vcpus: f.vcpus.to_string(),
        ram: f.ram_mb,
        disk: f.disk_gb.to_string(),
        swap: String::new(),
        ephemeral: 0,
        disabled: false,
        rxtx_factor: 1.0,
        rxtx_quota: String::new(),
        rxtx_cap: String::new(),
        is_public: true,
        links: vec![FlavorLink {
            href: format!("/v1/{project_id}/flavors/{}", f.id),
            rel: "self".into(),
            link_type: String::new(),
        }],
        os_extra_specs: specs,
        attachable_quantity: AttachableQuantity { free_scsi: 60, free_blk: 23, free_disk: 23, free_nic: 11 },
    }
}

/// A flavor's extra specs, as ListFlavors (`os_extra_specs`) and Nova's `os-extra_specs` show them.
pub fn flavor_extra_specs(f: &Flavor) -> BTreeMap<String, String> {
    let mut specs = BTreeMap::new();
    specs.insert("ecs:performancetype".into(), f.performance_type.into());
    specs.insert("ecs:generation".into(), f.generation.into());
    specs.insert("ecs:virtualization_env_types".into(), "CloudCompute".into());
    specs.insert("cond:operation:status".into(), "normal".into());
    specs.insert("resource_type".into(), format!("IES-{}", f.generation));
    specs
}

fn vpc_time(ms: i64) -> String {
    server_time(ms).trim_end_matches('Z').to_string()
}

/// A VPC.
pub fn vpc_view(v: &Vpc) -> VpcView {
    VpcView {
        id: v.id.clone(),
        name: v.name.clone(),
        cidr: v.cidr.clone(),
        description: "Default VPC".into(),
        routes: vec![],
        status: "OK".into(),
        enterprise_project_id: "0".into(),
        tenant_id: v.project_id.clone(),
        created_at: vpc_time(v.created_ms),
        updated_at: vpc_time(v.created_ms),
        block_service_endpoint_states: "off".into(),
        enable_network_address_usage_metrics: false,
    }
}

/// A subnet, with its free address count.
pub fn subnet_view(s: &Subnet, used: i64) -> SubnetView {
    let size = ecs_model::network::parse_cidr(&s.cidr).map(|(_, len)| 1i64 << (32 - len)).unwrap_or(0);
    SubnetView {
        id: s.id.clone(),
        name: s.name.clone(),
        description: String::new(),
        cidr: s.cidr.clone(),
        gateway_ip: s.gateway_ip.clone(),
        ipv6_enable: false,
        cidr_v6: String::new(),
        gateway_ip_v6: String::new(),
        dhcp_enable: true,
        primary_dns: "100.125.1.250".into(),
        secondary_dns: "100.125.21.250".into(),
        dns_list: vec!["100.125.1.250".into(), "100.125.21.250".into()],
        availability_zone: s.availability_zone.clone(),
        vpc_id: s.vpc_id.clone(),
        status: "ACTIVE".into(),
        neutron_network_id: s.neutron_network_id.clone(),
        neutron_subnet_id: s.neutron_subnet_id.clone(),
        neutron_subnet_id_v6: String::new(),
        extra_dhcp_opts: vec![],
        tenant_id: s.project_id.clone(),
        created_at: vpc_time(s.created_ms),
        updated_at: vpc_time(s.created_ms),
        // network, gateway and broadcast addresses are not assignable
        available_ip_address_count: (size - 3 - used).max(0),
    }
}
