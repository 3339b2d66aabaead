import { runService } from '@hearth/platform';
import { circleService } from './app.js';

runService(circleService);
