#!/usr/bin/env node
// The package's bin is this file, which exists before `pnpm build`: pnpm links workspace bins
// at install time, before dist/ exists, and skips a bin whose file is missing (so `npm start`
// on a fresh clone failed with `plankup: not found`). The program itself is the built dist/bin.js.
import '../dist/bin.js';
