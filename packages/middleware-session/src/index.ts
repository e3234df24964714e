export { plankMiddleware, session, type SessionOptions, type SessionOptionsEnv } from './session.js';
export {
  fileStore,
  memoryStore,
  type FileStoreOptions,
  type MemoryStoreOptions,
  type SessionData,
  type SessionStore,
} from './stores.js';
