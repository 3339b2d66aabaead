import { runService } from '@hearth/platform';
import { postService } from './app.js';

runService(postService);
