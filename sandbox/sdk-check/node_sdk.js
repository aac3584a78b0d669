// Checks that Meta's official Node SDK (facebook-nodejs-business-sdk) works against the sandbox,
// with today's people edges (docs/graph-api.md §8.7), `me/business_users` and finance tasks
// beside a few reads and errors.
//
// Run the sandbox, then this script, with the SDK where Node finds it:
//
//     cargo run -p graph-sandbox -- --listen 127.0.0.1:4010 &
//     npm install --prefix /tmp/fbsdk facebook-nodejs-business-sdk
//     NODE_PATH=/tmp/fbsdk/node_modules node sandbox/sdk-check/node_sdk.js http://127.0.0.1:4010
//
// It resets the sandbox first, so it may be run again. It exits non-zero on the first mismatch.

'use strict';

const assert = require('node:assert/strict');
const sdk = require('facebook-nodejs-business-sdk');

const { FacebookAdsApi, Business, BusinessUser, BusinessRoleRequest, User } = sdk;

const sandbox = process.argv[2] || 'http://127.0.0.1:4010';

async function control(path, body) {
  const response = await fetch(`${sandbox}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return response.json();
}

/** Every item of an SDK cursor, following Graph's paging. */
async function all(cursorPromise) {
  let cursor = await cursorPromise;
  const items = [...cursor];
  while (cursor.hasNext()) {
    cursor = await cursor.next();
    items.push(...cursor);
  }
  return items;
}

async function expectError(call, code) {
  try {
    await call();
  } catch (error) {
    const body = error.response || {};
    assert.equal(body.code, code, JSON.stringify(body));
    return;
  }
  assert.fail(`expected Graph error ${code}`);
}

async function main() {
  await control('/__sandbox/reset', {});
  // As the Python SDK's FacebookSession.GRAPH: the SDK's Graph host, pointed at the sandbox.
  Object.defineProperty(FacebookAdsApi, 'GRAPH', { get: () => sandbox });
  const admin = FacebookAdsApi.init('demo-admin', 'en_US', false);

  const me = await new User('me').get(['name', 'is_work_account']);
  assert.equal(me.name, 'Alex Rivera');
  assert.equal(me.is_work_account, false);

  const pomni = new Business('200001');
  const business = await pomni.get(['name', 'vertical']);
  assert.equal(business.name, 'Pomni Media');

  // limit=2 makes the cursor follow Graph's paging to the second page.
  const users = await all(pomni.getBusinessUsers(['name', 'role', 'tasks'], { limit: 2 }));
  assert.deepEqual(users.map((u) => u.id), ['710001', '710002', '710005']);
  assert.equal(users[0].name, 'Alex Rivera (Pomni)');
  assert.deepEqual(users[0].tasks, ['ADMIN', 'DEVELOPER', 'EMPLOYEE', 'MANAGE']);
  assert.ok(users[0] instanceof BusinessUser);

  const pending = await all(pomni.getPendingUsers(['email', 'role', 'status']));
  assert.deepEqual(
    pending.map((p) => [p.id, p.email, p.status]),
    [['720004', 'riley@pomni.example', 'PENDING']],
  );

  const invited = await pomni.createBusinessUser([], {
    email: 'node.person@pomni.example',
    role: 'EMPLOYEE',
    tasks: ['EMPLOYEE'],
    invited_user_type: ['MWA'],
  });
  const requestId = invited.id;
  const request = await new BusinessRoleRequest(requestId).get(['role', 'invited_user_type']);
  assert.deepEqual(request.invited_user_type, ['MWA']);
  await new BusinessRoleRequest(requestId).update([], { role: 'ADMIN' });
  assert.equal((await new BusinessRoleRequest(requestId).get(['role'])).role, 'ADMIN');
  await new BusinessRoleRequest(requestId).delete([]);
  assert.deepEqual((await all(pomni.getPendingUsers(['email']))).map((p) => p.id), ['720004']);
  await expectError(
    () => pomni.createBusinessUser([], { email: 'sam@pomni.example', role: 'EMPLOYEE' }),
    100,
  );

  // Accepted outside Graph (the control plane), the invitation becomes a business user.
  await control('/__sandbox/invitations/accept', {
    business_id: '200001',
    email: 'riley@pomni.example',
    first_name: 'Riley',
    last_name: 'Quinn',
  });
  const riley = (await all(pomni.getBusinessUsers(['name']))).filter((u) => u.name === 'Riley Quinn');
  assert.equal(riley.length, 1);
  const rileyId = riley[0].id;
  await new BusinessUser(rileyId).update([], { role: 'ADMIN', tasks: ['ADMIN', 'MANAGE'] });
  const read = await new BusinessUser(rileyId).get(['role', 'tasks', 'business']);
  assert.equal(read.role, 'ADMIN');
  assert.deepEqual(read.tasks, ['ADMIN', 'MANAGE']);
  assert.equal(read.business.id, '200001');
  await new BusinessUser(rileyId).delete([]);
  assert.ok(!(await all(pomni.getBusinessUsers([]))).some((u) => u.id === rileyId));
  await expectError(() => new BusinessUser(rileyId).get(['name']), 100);

  // A person edits their own profile; a new email waits as pending_email.
  const employee = new FacebookAdsApi('demo-employee', 'en_US', false);
  await new BusinessUser('710002', {}, null, employee).update([], {
    title: 'Producer',
    email: 'sam.node@pomni.example',
  });
  const sam = await new BusinessUser('710002', {}, null, employee).get(['title', 'email', 'pending_email']);
  assert.deepEqual([sam.title, sam.email, sam.pending_email], [
    'Producer',
    'sam@pomni.example',
    'sam.node@pomni.example',
  ]);
  await expectError(() => new BusinessUser('710001', {}, null, employee).delete([]), 200);

  FacebookAdsApi.setDefaultApi(admin);
  // me/business_users (User.getBusinessUsers): the token's own business users, one per
  // business; limit=1 makes the cursor follow Graph's paging.
  const mine = await all(new User('me').getBusinessUsers(['business', 'role'], { limit: 1 }));
  assert.deepEqual(
    mine.map((u) => [u.id, u.business.id, u.role]),
    [
      ['710001', '200001', 'ADMIN'],
      ['710007', '200002', 'EMPLOYEE'],
    ],
  );
  assert.ok(mine[0] instanceof BusinessUser);

  // FINANCE_EDIT among a business user's tasks is the FINANCE_EDITOR role (which views too).
  await new BusinessUser('710001').update([], { tasks: ['ADMIN', 'FINANCE_EDIT'] });
  const alex = await new BusinessUser('710001').get(['tasks', 'finance_permission']);
  assert.deepEqual(alex.tasks, ['ADMIN', 'FINANCE_EDIT', 'FINANCE_VIEW']);
  assert.equal(alex.finance_permission, 'FINANCE_EDITOR');

  const stats = await (await fetch(`${sandbox}/__sandbox/stats`)).json();
  console.log(`facebook-nodejs-business-sdk: all checks passed (${stats.requests} Graph requests)`);
}

main().catch((error) => {
  console.error(error && error.response ? JSON.stringify(error.response) : error);
  process.exit(1);
});
