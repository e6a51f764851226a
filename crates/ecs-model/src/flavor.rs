//! The flavor catalog (fixed: flavors are a property of the platform, not of a project).

/// A flavor: vCPUs, memory in MiB, root disk in GiB (0 = use the volume's size).
#[derive(Debug, Clone, PartialEq)]
pub struct Flavor {
    pub id: &'static str,
    pub vcpus: i64,
    pub ram_mb: i64,
    pub disk_gb: i64,
    /// Performance type, `ecs:performancetype` ("normal", "computingv3", ...).
    pub performance_type: &'static str,
    pub generation: &'static str,
}

/// The flavors ecsd offers; names follow Huawei's `<family>.<size>.<ram ratio>` scheme.
pub const FLAVORS: &[Flavor] = &[
    Flavor { id: "s6.small.1", vcpus: 1, ram_mb: 1024, disk_gb: 0, performance_type: "normal", generation: "s6" },
    Flavor { id: "s6.medium.2", vcpus: 1, ram_mb: 2048, disk_gb: 0, performance_type: "normal", generation: "s6" },
    Flavor { id: "s6.large.2", vcpus: 2, ram_mb: 4096, disk_gb: 0, performance_type: "normal", generation: "s6" },
    Flavor { id: "s6.xlarge.2", vcpus: 4, ram_mb: 8192, disk_gb: 0, performance_type: "normal", generation: "s6" },
    Flavor { id: "c6.large.2", vcpus: 2, ram_mb: 4096, disk_gb: 0, performance_type: "computingv3", generation: "c6" },
    Flavor {
        id: "c6.xlarge.4",
        vcpus: 4,
        ram_mb: 16384,
        disk_gb: 0,
        performance_type: "computingv3",
        generation: "c6",
    },
    Flavor { id: "m6.large.8", vcpus: 2, ram_mb: 16384, disk_gb: 0, performance_type: "highmem", generation: "m6" },
];

/// Looks a flavor up by id.
pub fn find(id: &str) -> Option<&'static Flavor> {
    FLAVORS.iter().find(|f| f.id == id)
}
