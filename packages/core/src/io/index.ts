/**
 * Import and export of dataset items as CSV and JSONL, shared by the CLI and the UI (which runs it
 * in a Web Worker): browser-safe, no Node built-ins. Import as `@assay/core/io`.
 */
export {
  COLUMNS_HELP,
  type ColumnPlan,
  defaultTarget,
  type Field,
  type Mapping,
  parseTarget,
  planColumns,
  suggestTarget,
  type Target,
  targetPath,
} from './columns.js';
export { type CsvRow, csvRows, formatCell, parseCell } from './csv.js';
export {
  csvHeader,
  csvLine,
  type ExportableItem,
  type ExportOptions,
  exportColumns,
  exportFile,
  exportRecord,
  jsonlLine,
} from './export.js';
export { type JsonlRecord, jsonlRecords } from './jsonl.js';
export {
  formatFromName,
  ImportFileError,
  type ImportFormat,
  type ParsedLine,
  type Preview,
  previewFile,
  type ReadOptions,
  readItems,
} from './read.js';
export { type ByteSource, textChunks } from './source.js';
