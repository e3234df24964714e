export {
  scoreboard,
  type Scoreboard,
  type ScoreboardOptions,
  type ScoreboardSnapshot,
  type WorkerSlot,
} from './scoreboard.js';
export { slotFileName, type Slot } from './slot.js';
export {
  isAlive,
  readMasterList,
  WORKERS_FILE_ENV,
  writeMasterList,
  type MasterList,
  type MasterWorker,
  type PoolEvent,
  type PoolPolicyStatus,
  type PoolSample,
  type PoolStatus,
  type WorkerState,
} from './workers.js';
