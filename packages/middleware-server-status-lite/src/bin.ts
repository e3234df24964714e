#!/usr/bin/env node
import { statusCommand } from './cli.js';

process.exitCode = await statusCommand(process.argv.slice(2), process.stdout, process.stderr);
