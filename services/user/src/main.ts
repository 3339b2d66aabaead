import { runService } from '@hearth/platform';
import { userService } from './app.js';

runService(userService);
