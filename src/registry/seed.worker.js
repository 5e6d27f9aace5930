// Bootstrap of the seeding worker thread: worker threads do not inherit the tsx loader.
import { register } from 'tsx/esm/api';

register();
await import('./seed.worker.ts');
