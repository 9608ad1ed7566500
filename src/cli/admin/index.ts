export { registerAdminCommand, type AdminIO } from './admin-command.js';
export { formatTable, formatTime } from './table.js';
