#!/usr/bin/env node
import { Runner } from './runner.js';

process.exitCode = await new Runner().run(process.argv.slice(2));
