import { inProcessServer, runServerSuite } from '@plank/test';

runServerSuite('in-process', inProcessServer);
