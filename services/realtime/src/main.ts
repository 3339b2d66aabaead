import { runService } from '@hearth/platform';
import { realtimeService } from './app.js';

runService(realtimeService);
