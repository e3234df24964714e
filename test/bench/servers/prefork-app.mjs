// The hello app each prefork worker loads (answers like raw-node.mjs).
export default () => [200, ['Content-Type', 'text/plain', 'Content-Length', '13'], ['Hello, World!']];
