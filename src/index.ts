/** The public API for plugin authors: `import { defineWatcher } from 'iamwatch'`. */
export { defineWatcher } from './watchers/define-watcher.js';
export type { Watcher, WatcherContext, RunResult } from './watchers/define-watcher.js';
export type { OptionDecl, OptionDecls, OptionValues } from './jobsfile/options.js';
export type { Logger } from './base/logger.js';
export { IamwatchError } from './base/errors.js';
export { pollStatus, serverNowMs, type PollStatusOptions, type PollResult, type HandlerContext } from './db/status-poll.js';
