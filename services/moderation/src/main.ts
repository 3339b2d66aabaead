import { runService } from '@hearth/platform';
import { moderationService } from './app.js';

runService(moderationService);
