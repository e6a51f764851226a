"""NICs added to and deleted from a server after its create, through the official ECS SDK:
BatchAddServerNics, BatchDeleteServerNics, NovaAttachInterface, ShowServerAttachableNicNum, with
the server's addresses and interfaces, the refusals, a NIC's delete_on_termination, the console
output, the remote console and the crash dump."""

import huaweicloudsdkecs.v2 as ecs_v2

from conftest import expect_api_error, show_server, stop_server, wait_job_success

MISSING = "6a6b4b4e-0e3a-4c38-9b64-000000000000"


def _add(ecs, sid, *nics):
    body = ecs_v2.BatchAddServerNicsRequestBody(nics=list(nics))
    return ecs.batch_add_server_nics(ecs_v2.BatchAddServerNicsRequest(server_id=sid, body=body))


def _delete(ecs, sid, *ports):
    nics = [ecs_v2.BatchDeleteServerNicOption(id=p) for p in ports]
    body = ecs_v2.BatchDeleteServerNicsRequestBody(nics=nics)
    return ecs.batch_delete_server_nics(ecs_v2.BatchDeleteServerNicsRequest(server_id=sid, body=body))


def _addresses(server):
    return [a for addrs in server.addresses.values() for a in addrs]


def test_nics_are_added_listed_and_deleted(ecs, factory, network):
    sid = factory.server()
    resp = _add(ecs, sid, ecs_v2.BatchAddServerNicOption(subnet_id=network.subnet_id),
                ecs_v2.BatchAddServerNicOption(subnet_id=network.subnet_id, ip_address="192.168.200.250"))
    job = wait_job_success(ecs, resp.job_id)
    assert job.job_type == "batchAddServerNics", job
    addrs = _addresses(show_server(ecs, sid))
    assert len(addrs) == 3 and addrs[0].primary and not addrs[1].primary, addrs
    assert addrs[2].addr == "192.168.200.250", addrs
    listed = ecs.list_server_interfaces(ecs_v2.ListServerInterfacesRequest(server_id=sid)).interface_attachments
    assert {i.port_id for i in listed} == {a.os_ext_ip_sport_id for a in addrs}, listed
    num = ecs.show_server_attachable_nic_num(ecs_v2.ShowServerAttachableNicNumRequest(server_id=sid))
    assert num.attachable_quantity.free_nic == 2, num
    assert len(num.interface_attachments) == 3, num

    resp = _delete(ecs, sid, addrs[2].os_ext_ip_sport_id)
    assert wait_job_success(ecs, resp.job_id).job_type == "batchDeleteServerNics"
    assert [a.addr for a in _addresses(show_server(ecs, sid))] == [addrs[0].addr, addrs[1].addr]


def test_nova_attach_interface_to_a_stopped_server(ecs, factory, network):
    sid = factory.server()
    stop_server(ecs, sid)
    opt = ecs_v2.NovaAttachInterfaceOption(
        net_id=network.subnet_id, fixed_ips=[ecs_v2.NovaAttachInterfaceFixedIp(ip_address="192.168.200.240")])
    resp = ecs.nova_attach_interface(ecs_v2.NovaAttachInterfaceRequest(
        server_id=sid, body=ecs_v2.NovaAttachInterfaceRequestBody(interface_attachment=opt)))
    a = resp.interface_attachment
    assert a.fixed_ips[0].ip_address == "192.168.200.240" and a.port_state == "DOWN", a
    shown = ecs.nova_show_server_interface(ecs_v2.NovaShowServerInterfaceRequest(server_id=sid, port_id=a.port_id))
    assert shown.interface_attachment.mac_addr == a.mac_addr


def test_nic_refusals_change_nothing(ecs, factory, network):
    sid = factory.server()
    before = _addresses(show_server(ecs, sid))
    primary = before[0].os_ext_ip_sport_id
    expect_api_error(lambda: _add(ecs, sid, ecs_v2.BatchAddServerNicOption(subnet_id=MISSING)), 400, "Ecs.0005")
    expect_api_error(lambda: _add(ecs, sid, ecs_v2.BatchAddServerNicOption(
        subnet_id=network.subnet_id, ip_address=before[0].addr)), 400, "Ecs.0005")
    expect_api_error(lambda: _add(ecs, MISSING, ecs_v2.BatchAddServerNicOption(subnet_id=network.subnet_id)),
                     404, "Ecs.0114")
    expect_api_error(lambda: _delete(ecs, sid, primary), 403, "Ecs.0003")
    expect_api_error(lambda: _delete(ecs, sid, MISSING), 400, "Ecs.0005")
    assert _addresses(show_server(ecs, sid)) == before


def test_console_output_shows_the_boot_log(ecs, factory):
    sid = factory.server()
    out = ecs.show_server_console_output(ecs_v2.ShowServerConsoleOutputRequest(server_id=sid, length=-1)).output
    assert sid in out and "Linux version" in out, out
    two = ecs.show_server_console_output(ecs_v2.ShowServerConsoleOutputRequest(server_id=sid, length=2)).output
    assert len(two.splitlines()) == 2, two
    expect_api_error(lambda: ecs.show_server_console_output(
        ecs_v2.ShowServerConsoleOutputRequest(server_id=MISSING)), 404, "Ecs.0114")


def test_a_crash_dump_sends_the_running_guest_an_nmi_its_console_shows(ecs, factory):
    sid = factory.server()

    def logged():
        req = ecs_v2.ShowServerConsoleOutputRequest(server_id=sid, length=-1)
        return ecs.show_server_console_output(req).output.count("NMI received")

    assert logged() == 0
    ecs.execute_server_dump(ecs_v2.ExecuteServerDumpRequest(server_id=sid))
    assert logged() == 1
    assert show_server(ecs, sid).status == "ACTIVE"
    stop_server(ecs, sid)
    expect_api_error(lambda: ecs.execute_server_dump(ecs_v2.ExecuteServerDumpRequest(server_id=sid)),
                     400, "Ecs.0100")
    assert logged() == 1
    expect_api_error(lambda: ecs.execute_server_dump(ecs_v2.ExecuteServerDumpRequest(server_id=MISSING)),
                     404, "Ecs.0114")


def test_a_remote_console_on_the_simulated_driver_is_a_named_refusal(ecs, factory):
    sid = factory.server()
    body = ecs_v2.ShowServerRemoteConsoleRequestBody(
        remote_console=ecs_v2.GetServerRemoteConsoleOption(protocol="vnc", type="novnc"))
    e = expect_api_error(lambda: ecs.show_server_remote_console(
        ecs_v2.ShowServerRemoteConsoleRequest(server_id=sid, body=body)), 400, "Ecs.0000")
    assert "qemu driver" in e.error_msg and "ShowServerConsoleOutput" in e.error_msg, e.error_msg
    bad = ecs_v2.ShowServerRemoteConsoleRequestBody(
        remote_console=ecs_v2.GetServerRemoteConsoleOption(protocol="spice", type="novnc"))
    expect_api_error(lambda: ecs.show_server_remote_console(
        ecs_v2.ShowServerRemoteConsoleRequest(server_id=sid, body=bad)), 400, "Ecs.0005")


def test_a_nics_delete_on_termination_is_true_and_cannot_be_turned_off(ecs, factory):
    sid = factory.server()
    port = _addresses(show_server(ecs, sid))[0].os_ext_ip_sport_id

    def update(value):
        body = ecs_v2.UpdateNicInfoRequestBody(
            interface_attachment=ecs_v2.InterfaceAttachment(delete_on_termination=value))
        return ecs.update_server_interface(ecs_v2.UpdateServerInterfaceRequest(server_id=sid, port_id=port, body=body))

    update(True)
    listed = ecs.list_server_interfaces(ecs_v2.ListServerInterfacesRequest(server_id=sid)).interface_attachments
    assert [i.delete_on_termination for i in listed] == [True], listed
    e = expect_api_error(lambda: update(False), 400, "Ecs.0000")
    assert "delete_on_termination false" in e.error_msg, e.error_msg


def test_virtual_ip_is_associated_and_disassociated(ecs, vpc, factory, network):
    import huaweicloudsdkvpc.v2 as vpc_v2
    sid = factory.server()
    nic = _addresses(show_server(ecs, sid))[0].os_ext_ip_sport_id
    opt = ecs_v2.AssociateServerVirtualIpOption(subnet_id=network.subnet_id, ip_address="192.168.200.230")
    resp = ecs.associate_server_virtual_ip(ecs_v2.AssociateServerVirtualIpRequest(
        nic_id=nic, body=ecs_v2.AssociateServerVirtualIpRequestBody(nic=opt)))
    assert resp.port_id == nic, resp
    pairs = vpc.show_port(vpc_v2.ShowPortRequest(port_id=nic)).port.allowed_address_pairs
    assert [p.ip_address for p in pairs] == ["192.168.200.230"], pairs
    off = ecs_v2.DisassociateServerVirtualIpOption(subnet_id="", ip_address="")
    ecs.disassociate_server_virtual_ip(ecs_v2.DisassociateServerVirtualIpRequest(
        nic_id=nic, body=ecs_v2.DisassociateServerVirtualIpRequestBody(nic=off)))
    assert not vpc.show_port(vpc_v2.ShowPortRequest(port_id=nic)).port.allowed_address_pairs
    expect_api_error(lambda: ecs.associate_server_virtual_ip(ecs_v2.AssociateServerVirtualIpRequest(
        nic_id=MISSING, body=ecs_v2.AssociateServerVirtualIpRequestBody(nic=opt))), 400, "Ecs.0005")


def test_the_primary_nic_of_a_stopped_server_changes_address(ecs, factory, network):
    sid = factory.server()
    primary = next(a for a in _addresses(show_server(ecs, sid)) if a.primary)

    def change(ip):
        body = ecs_v2.ChangeServerNetworkInterfaceRequestBody(subnet_id=network.subnet_id, ip_address=ip)
        return ecs.change_server_network_interface(ecs_v2.ChangeServerNetworkInterfaceRequest(
            server_id=sid, port_id=primary.os_ext_ip_sport_id, body=body))

    expect_api_error(lambda: change("192.168.201.201"), 400, "Ecs.0100")
    stop_server(ecs, sid)
    resp = change("192.168.201.201")
    assert resp.id == primary.os_ext_ip_sport_id and resp.ip_address == "192.168.201.201"
    now = next(a for a in _addresses(show_server(ecs, sid)) if a.primary)
    assert now.addr == "192.168.201.201" and now.os_ext_ip_sport_id == primary.os_ext_ip_sport_id
    expect_api_error(lambda: change("not-an-address"), 400, "Ecs.0005")
    assert next(a for a in _addresses(show_server(ecs, sid)) if a.primary).addr == "192.168.201.201"
