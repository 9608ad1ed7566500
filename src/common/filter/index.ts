// Message filtering for subscriptions: SQL92 property filters and tag filters. A leaf module
// with no broker knowledge; callers compile once per subscription and match per message.

export { FilterSyntaxError, MAX_SQL92_LENGTH } from './sql92-lexer.js';
export { compileSql92, type CompiledFilter, type PropertyLookup } from './sql92-evaluate.js';
export {
  SUB_ALL,
  javaStringHashCode,
  parseTagSubscription,
  tagMatches,
  tagsCodeMatches,
  type TagSubscription,
} from './tag-filter.js';
