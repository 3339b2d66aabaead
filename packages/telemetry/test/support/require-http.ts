// Loads node:http through require(), as Fastify does, before anything imports it: the order in
// which the http instrumentation would patch only the CommonJS exports, unless the preload has
// already loaded it by import.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('node:http');
