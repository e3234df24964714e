export {
  scoreboard,
  type Scoreboard,
  type ScoreboardOptions,
  type ScoreboardSnapshot,
  type WorkerSlot,
} from './scoreboard.js';
export { slotFileName, type Slot } from './slot.js';
export { isAlive, readMasterList, type MasterList, type MasterWorker } from './workers.js';
