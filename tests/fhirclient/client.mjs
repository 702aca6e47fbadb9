// An outside FHIR client against the server, as an integration engine uses it (fhir-kit-client):
// the CapabilityStatement, a search with includes followed page by page, every fullUrl read back,
// a refused parameter, and a Bulk Data export kicked off, polled, downloaded and deleted.
// Usage: node client.mjs BASE_URL TOKEN; prints one JSON report on stdout.
import { Client } from 'fhir-kit-client';

const [baseUrl, token] = process.argv.slice(2);
const client = new Client({ baseUrl, bearerToken: token });
const report = { types: [], pages: 0, matches: [], reads: 0, differing: [], refused: null, questionnaires: 0 };

const statement = await client.capabilityStatement();
report.types = statement.rest[0].resource.map((resource) => resource.type);

const found = await client.search({ resourceType: 'Questionnaire', searchParams: { status: 'active' } });
report.questionnaires = found.total;

let bundle = await client.search({
  resourceType: 'QuestionnaireResponse',
  searchParams: {
    _count: 7,
    _lastUpdated: 'ge2000-01-01',
    _include: 'QuestionnaireResponse:subject',
    _revinclude: 'Observation:derived-from',
  },
});
while (bundle) {
  report.pages += 1;
  for (const entry of bundle.entry ?? []) {
    const resource = await client.resolve({ reference: entry.fullUrl });
    report.reads += 1;
    if (JSON.stringify(resource) !== JSON.stringify(entry.resource)) report.differing.push(entry.fullUrl);
    if (entry.search.mode === 'match') report.matches.push(resource.id);
  }
  const following = client.nextPage({ bundle });
  bundle = following ? await following : undefined;
}

try {
  await client.search({ resourceType: 'Patient', searchParams: { birthdate: '1950' } });
} catch (error) {
  report.refused = { status: error.response.status, outcome: error.response.data.resourceType };
}

const async = { headers: { Prefer: 'respond-async', Accept: 'application/fhir+json' } };
const kickOff = await client.request('$export?_type=Patient,QuestionnaireResponse', { options: async });
const poll = Client.httpFor(kickOff).response.headers.get('content-location');
let manifest;
for (let tries = 0; tries < 600 && !manifest; tries += 1) {
  const polled = await client.request(poll);
  const { response } = Client.httpFor(polled);
  if (response.status === 200) manifest = polled;
  else await new Promise((done) => setTimeout(done, Math.min(Number(response.headers.get('retry-after')), 0.2) * 1000));
}
report.exported = {};
for (const output of manifest.output) {
  // NDJSON is not one JSON document: a plain download with the same token, as integrations do.
  const reply = await fetch(output.url, { headers: { Authorization: `Bearer ${token}` } });
  const lines = (await reply.text()).trim().split('\n').map((text) => JSON.parse(text));
  report.exported[output.type] = lines.map((resource) => resource.id);
}
const stranger = await fetch(manifest.output[0].url);
report.withoutToken = stranger.status;
await client.request(poll, { method: 'DELETE' });
try {
  await client.request(poll);
} catch (error) {
  report.afterDelete = error.response.status;
}
console.log(JSON.stringify(report));
