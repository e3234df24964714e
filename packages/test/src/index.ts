export { testApp, defaultMode } from './test-app.js';
export { requestInProcess, type InProcessOptions } from './in-process.js';
export type { Requester, TestAppOptions, TestContext, TestMode, TestRequestInit, TestResponse } from './types.js';
