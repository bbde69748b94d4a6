// GET /v1/cluster/membership: Kahuna's JSON with roles as strings (wire.md 3.6).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startRestHarness, type RestHarness } from './harness.js';

let h: RestHarness;
beforeAll(async () => { h = await startRestHarness(); });
afterAll(async () => { await h.close(); });

test('membership: exact members, roles as strings', async () => {
  h.backend.answer('membership', () => ({ membershipVersion: 4, localRole: 1, initialized: true,
    members: [{ endpoint: 'https://n1:8082', nodeId: 1, role: 1, joinedVersion: 1 },
      { endpoint: 'https://n2:8082', nodeId: 2, role: 0, joinedVersion: 3 },
      { endpoint: 'https://n3:8082', nodeId: 3, role: 2, joinedVersion: 2 },
      { endpoint: 'https://n4:8082', nodeId: 4, role: 3, joinedVersion: 4 }] }));
  const reply = await h.get('/v1/cluster/membership');
  expect(reply.status).toBe(200);
  expect(reply.text).toBe('{"membershipVersion":4,"members":[' +
    '{"endpoint":"https://n1:8082","nodeId":1,"role":"Voter","joinedVersion":1},' +
    '{"endpoint":"https://n2:8082","nodeId":2,"role":"Learner","joinedVersion":3},' +
    '{"endpoint":"https://n3:8082","nodeId":3,"role":"Leaving","joinedVersion":2},' +
    '{"endpoint":"https://n4:8082","nodeId":4,"role":"NotMember","joinedVersion":4}],' +
    '"localRole":"Voter","initialized":true}');
});

test('membership is GET only', async () => {
  const reply = await h.post('/v1/cluster/membership', {});
  expect(reply.status).toBe(405);
});
