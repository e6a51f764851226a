// Conformance tests with the official Huawei Cloud Node SDK (ECS and VPC clients, unchanged,
// built with BasicCredentials and withEndpoint) against an ecsd this file starts: the /v1.1
// create with a data disk, tags and metadata, the server tags API, and the errors the SDK
// raises for an invalid create, an unknown server and an unsupported operation.
'use strict';

const os = require('node:os');
const fs = require('node:fs');
const path = require('node:path');

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { BasicCredentials } = require('@huaweicloud/huaweicloud-sdk-core');
const { ClientRequestException } = require('@huaweicloud/huaweicloud-sdk-core/exception/ClientRequestException');
const ecs = require('@huaweicloud/huaweicloud-sdk-ecs');
const vpc = require('@huaweicloud/huaweicloud-sdk-vpc');

const { AK, SK, PROJECT_ID, startEcsd } = require('./ecsd');

// The SDK logs every error response at ERROR to stdout (about a hundred lines each, the signed
// request headers included), and the error-path tests provoke errors on purpose: silence its
// log4js logger (the very instance the SDK configured) unless the SDK's own switch DEBUG=DEBUG
// asks for its logs. The assertions say what went wrong when a test fails.
if (process.env.DEBUG !== 'DEBUG') {
  const sdkCore = require.resolve('@huaweicloud/huaweicloud-sdk-core');
  const log4js = require(require.resolve('log4js', { paths: [path.dirname(sdkCore)] }));
  log4js.getLogger().level = 'off';
}

const JOB_POLL_MS = 50;
const JOB_TIMEOUT_MS = 30_000;
const DEFAULT_FLAVOR = 's6.small.1';
const MISSING_SERVER = '00000000-0000-4000-8000-000000000000';

let sdkHome; // the SDK's home directory for this run
let server; // the running ecsd
let client; // EcsClient
let network; // { vpcId, subnetId, subnetCidr }
let imageId; // an image without Cloud-Init (no key or password needed to create from it)
let flavorId;

function credentials() {
  return new BasicCredentials().withAk(AK).withSk(SK).withProjectId(PROJECT_ID);
}

function ecsClient(endpoint) {
  return ecs.EcsClient.newBuilder().withCredential(credentials()).withEndpoint(endpoint).build();
}

function vpcClient(endpoint) {
  return vpc.VpcClient.newBuilder().withCredential(credentials()).withEndpoint(endpoint).build();
}

// GET /v2/cloudimages through the ECS client's own request path (signed and with errors parsed
// exactly as its generated methods do): there is no IMS package for Node to be had alongside
// these ECS/VPC versions, and the ECS SDK has no image list of its own.
function listGoldImages(c) {
  return c.hcClient.sendRequest({
    method: 'GET',
    url: '/v2/cloudimages',
    contentType: 'application/json',
    queryParams: { __imagetype: 'gold' },
    pathParams: {},
    headers: {},
    responseHeaders: [''],
  });
}

// Runs `call` and asserts it rejects with the SDK's error object for HTTP `status` and `code`.
async function expectApiError(call, status, code) {
  let err;
  try {
    const resp = await call();
    assert.fail(`expected HTTP ${status} ${code}, but the call succeeded: ${JSON.stringify(resp)}`);
  } catch (e) {
    err = e;
  }
  if (err instanceof assert.AssertionError) throw err;
  assert.ok(err instanceof ClientRequestException, `not the SDK's ClientRequestException: ${err && err.stack}`);
  assert.equal(err.name, 'ClientRequestException');
  assert.deepEqual(
    { httpStatusCode: err.httpStatusCode, errorCode: err.errorCode },
    { httpStatusCode: status, errorCode: code },
    `error message: ${err.errorMsg}`,
  );
  assert.ok(typeof err.errorMsg === 'string' && err.errorMsg.length > 0, 'the error has a message');
  assert.ok(err.requestId, 'the error carries the X-Request-Id');
  return err;
}

// Polls ShowJob every 50 ms until SUCCESS or FAIL.
async function waitJob(jobId) {
  assert.ok(jobId, 'no job_id to wait for');
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  for (;;) {
    const job = await client.showJob(new ecs.ShowJobRequest(jobId));
    if (job.status === 'SUCCESS' || job.status === 'FAIL') return job;
    if (Date.now() > deadline) assert.fail(`job ${jobId} still ${job.status} after ${JOB_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, JOB_POLL_MS));
  }
}

async function serverCount() {
  const list = await client.listServersDetails(new ecs.ListServersDetailsRequest());
  return list.count;
}

function unique(prefix) {
  return `${prefix}-${Math.random().toString(16).slice(2, 10)}`;
}

// The /v1.1 create body: a root volume, a data volume, server tags, metadata, pay-per-use.
function createBody(name, { flavor = flavorId, chargingMode = 'postPaid', dataSize = 20 } = {}) {
  const s = new ecs.PrePaidServer()
    .withName(name)
    .withImageRef(imageId)
    .withFlavorRef(flavor)
    .withVpcid(network.vpcId)
    .withNics([new ecs.PrePaidServerNic().withSubnetId(network.subnetId)])
    .withRootVolume(new ecs.PrePaidServerRootVolume().withVolumetype('SSD').withSize(40))
    .withDataVolumes([new ecs.PrePaidServerDataVolume().withVolumetype('SSD').withSize(dataSize)])
    .withServerTags([new ecs.PrePaidServerTag().withKey('env').withValue('test'),
      new ecs.PrePaidServerTag().withKey('team').withValue('node-sdk')])
    .withMetadata({ owner: 'ops', purpose: 'node-sdk-test' })
    .withExtendparam(new ecs.PrePaidServerExtendParam().withChargingMode(chargingMode));
  return new ecs.CreateServersRequest().withBody(new ecs.CreateServersRequestBody().withServer(s));
}

// Creates one server with the /v1.1 create, waits for its job and returns [server id, job].
// The Node SDK hands back the response body as parsed JSON plus `httpStatusCode` (HcClient's
// extractResponse), so the assertions read the wire's own names: `job_id`, `serverIds`.
async function createServer(name) {
  const resp = await client.createServers(createBody(name));
  assert.equal(resp.httpStatusCode, 200);
  assert.ok(resp.job_id, `no job_id: ${JSON.stringify(resp)}`);
  assert.equal(resp.serverIds.length, 1, JSON.stringify(resp));
  assert.equal(resp.order_id, undefined, 'no order for pay-per-use');
  const job = await waitJob(resp.job_id);
  assert.equal(job.status, 'SUCCESS', `job ended ${job.status}: ${job.error_code} ${job.fail_reason}`);
  return [resp.serverIds[0], job];
}

before(async () => {
  // The SDK writes ~/.huaweicloud/application_id when it builds a client's User-Agent: keep that
  // out of the real home directory, as the Python suite does. Before any client is built.
  sdkHome = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsd-node-home-'));
  process.env.HOME = sdkHome;

  server = await startEcsd();
  client = ecsClient(server.endpoint);

  // The default VPC and its subnet, as the Python suite finds them.
  const v = vpcClient(server.endpoint);
  const vpcs = (await v.listVpcs(new vpc.ListVpcsRequest())).vpcs;
  assert.ok(vpcs && vpcs.length > 0, 'the project has no VPC');
  const subnets = (await v.listSubnets(new vpc.ListSubnetsRequest().withVpcId(vpcs[0].id))).subnets;
  assert.ok(subnets && subnets.length > 0, `VPC ${vpcs[0].id} has no subnet`);
  network = { vpcId: vpcs[0].id, subnetId: subnets[0].id, subnetCidr: subnets[0].cidr };

  const images = (await listGoldImages(client)).images || [];
  const plain = images.find((i) => i.__is_config_init !== 'true' && i.status === 'active');
  assert.ok(plain, `no active image without Cloud-Init among ${images.map((i) => i.name)}`);
  imageId = plain.id;

  const flavors = (await client.listFlavors(new ecs.ListFlavorsRequest())).flavors || [];
  assert.ok(flavors.length > 0, 'no flavors');
  flavorId = flavors.some((f) => f.id === DEFAULT_FLAVOR) ? DEFAULT_FLAVOR : flavors[0].id;
});

after(async () => {
  if (server) await server.stop();
  if (sdkHome) fs.rmSync(sdkHome, { recursive: true, force: true });
});

test('the /v1.1 create makes an ACTIVE server with its data disk, tags and metadata', async () => {
  const name = unique('node-v11');
  const [id, job] = await createServer(name);

  assert.equal(job.job_type, 'createServer');
  assert.equal(job.entities.sub_jobs_total, 1);
  assert.equal(job.entities.sub_jobs[0].job_type, 'createSingleServer');
  assert.equal(job.entities.sub_jobs[0].status, 'SUCCESS');
  // Where Terraform reads the new server's id.
  assert.equal(job.entities.sub_jobs[0].entities.server_id, id);

  const s = (await client.showServer(new ecs.ShowServerRequest(id))).server;
  assert.equal(s.id, id);
  assert.equal(s.name, name);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s.tenant_id, PROJECT_ID);
  assert.equal(s.user_id, server.userId);
  assert.equal(s.flavor.id, flavorId);
  assert.equal(s.image.id, imageId);
  assert.deepEqual([...s.tags].sort(), ['env=test', 'team=node-sdk']);
  assert.equal(s.metadata.owner, 'ops');
  assert.equal(s.metadata.purpose, 'node-sdk-test');
  assert.equal(s.metadata.vpc_id, network.vpcId);
  assert.equal(s.metadata.charging_mode, '0', 'pay-per-use');
  assert.ok(network.vpcId in s.addresses, JSON.stringify(s.addresses));

  const vols = s['os-extended-volumes:volumes_attached'];
  assert.equal(vols.length, 2, JSON.stringify(vols));
  assert.deepEqual(vols.map((x) => x.bootIndex), ['0', '-1']);
  assert.deepEqual(vols.map((x) => x.device), ['/dev/vda', '/dev/vdb']);
  assert.ok(vols.every((x) => typeof x.id === 'string' && x.id.length > 0));
  assert.notEqual(vols[0].id, vols[1].id);
});

test('server tags: batch create, show, batch delete, and the project tag list', async () => {
  const [id] = await createServer(unique('node-tags'));

  const created = await client.batchCreateServerTags(new ecs.BatchCreateServerTagsRequest(id).withBody(
    new ecs.BatchCreateServerTagsRequestBody('create', [
      new ecs.BatchAddServerTag('env').withValue('prod'), // overwrites env=test
      new ecs.BatchAddServerTag('app').withValue('web'),
    ]),
  ));
  assert.equal(created.httpStatusCode, 204);

  const shown = await client.showServerTags(new ecs.ShowServerTagsRequest(id));
  assert.deepEqual(shown.tags, [
    { key: 'app', value: 'web' },
    { key: 'env', value: 'prod' },
    { key: 'team', value: 'node-sdk' },
  ]);
  const detail = (await client.showServer(new ecs.ShowServerRequest(id))).server;
  assert.deepEqual([...detail.tags].sort(), ['app=web', 'env=prod', 'team=node-sdk']);

  // The project's tags: every key on its servers with every value it has. Other tests' servers
  // may add values to env and team, hence `includes` there; only this server has app.
  const project = await client.listServerTags(new ecs.ListServerTagsRequest());
  const byKey = Object.fromEntries(project.tags.map((t) => [t.key, t.values]));
  assert.deepEqual(byKey.app, ['web']);
  assert.ok(byKey.env.includes('prod'), JSON.stringify(project.tags));
  assert.ok(byKey.team.includes('node-sdk'), JSON.stringify(project.tags));

  // Delete by key; a value that does not match leaves the tag.
  const deleted = await client.batchDeleteServerTags(new ecs.BatchDeleteServerTagsRequest(id).withBody(
    new ecs.BatchDeleteServerTagsRequestBody('delete', [
      new ecs.ServerTag('app'),
      new ecs.ServerTag('env').withValue('prod'),
      new ecs.ServerTag('team').withValue('other'),
    ]),
  ));
  assert.equal(deleted.httpStatusCode, 204);
  const left = await client.showServerTags(new ecs.ShowServerTagsRequest(id));
  assert.deepEqual(left.tags, [{ key: 'team', value: 'node-sdk' }]);

  const remaining = await client.listServerTags(new ecs.ListServerTagsRequest());
  const keys = remaining.tags.map((t) => t.key);
  assert.ok(!keys.includes('app'), `app is on no server any more: ${JSON.stringify(remaining.tags)}`);
});

test('an invalid /v1.1 create raises the SDK error 400 and creates nothing', async () => {
  const count = await serverCount();

  const prepaid = await expectApiError(
    () => client.createServers(createBody(unique('node-prepaid'), { chargingMode: 'prePaid' })), 400, 'Ecs.0005');
  assert.match(prepaid.errorMsg, /pay-per-use/);

  await expectApiError(
    () => client.createServers(createBody(unique('node-flavor'), { flavor: 'no.such.flavor' })), 400, 'Ecs.0019');

  await expectApiError(
    () => client.createServers(createBody(unique('node-disk'), { dataSize: 5 })), 400, 'Ecs.0005');

  assert.equal(await serverCount(), count, 'the refused creates made no server');
});

test('showing an unknown server raises the SDK error 404 Ecs.0114', async () => {
  await expectApiError(() => client.showServer(new ecs.ShowServerRequest(MISSING_SERVER)), 404, 'Ecs.0114');
  await expectApiError(() => client.showServerTags(new ecs.ShowServerTagsRequest(MISSING_SERVER)), 404, 'Ecs.0114');
});

test('an operation ecsd does not carry out (ChangeVpc) raises 400 Ecs.0000 naming it', async () => {
  const [id] = await createServer(unique('node-changevpc'));
  const body = new ecs.ChangeVpcRequestBody(network.vpcId,
    new ecs.ChangeVpcNicBody().withSubnetId(network.subnetId));
  const err = await expectApiError(
    () => client.changeVpc(new ecs.ChangeVpcRequest(id).withBody(body)), 400, 'Ecs.0000');
  assert.match(err.errorMsg, /ChangeVpc/);
  assert.match(err.errorMsg, /changevpc/);
});
