// Builds the server once before the test files start (they may run in parallel), when its dll is missing.
import { ensureServerBuilt } from '../test/support/server.js';

ensureServerBuilt();
