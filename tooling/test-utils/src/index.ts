export { parseNpy, readNpy, serializeNpy, writeNpy } from './npy.js';
export { fixtureCases, repositoryRoot, tinyFixture } from './fixtures.js';
export type { FixtureCase } from './fixtures.js';
export { assertClose, measureDifference } from './close.js';
export type { Difference } from './close.js';
export { temporaryFolders } from './temporary-folders.js';
export type { TemporaryFolders } from './temporary-folders.js';
export { lfsEtag, regularEtag, startHubTestServer } from './hub-test-server.js';
export type { HubTestServer, HubTestServerOptions, RecordedRequest } from './hub-test-server.js';
