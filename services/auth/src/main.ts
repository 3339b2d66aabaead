import { runService } from '@hearth/platform';
import { authService } from './app.js';

runService(authService);
