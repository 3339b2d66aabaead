import { runService } from '@hearth/platform';
import { supportService } from './app.js';

runService(supportService);
