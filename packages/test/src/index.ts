export { testApp, defaultMode } from './test-app.js';
export { requestInProcess, testEnv, type InProcessOptions } from './in-process.js';
export { listen, rawRequest, socketRequester } from './socket.js';
export { freePort, until, which, type UntilOptions } from './machine.js';
export type { Requester, TestAppOptions, TestContext, TestMode, TestRequestInit, TestResponse } from './types.js';
export { runServerSuite, suiteApp, inProcessServer, type SuiteFactory, type SuiteServer } from './suite.js';
export { serverSuiteCases, type SuiteCase, type SuiteClient, type SuiteFixtures } from './suite-cases.js';
export { type Peer, peerStarted, startNginx } from './peers.js';
