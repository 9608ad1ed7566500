// A slave's metadata tables take the master's as they are: every entry the master has (completed
// with defaults), none it lacks.

/** Makes table hold exactly source's entries, each completed by complete(); returns whether anything changed. */
export function replaceTable<T>(table: Map<string, T>, source: Record<string, T>, complete: (name: string, value: T) => T): boolean {
  let changed = false;
  for (const [name, value] of Object.entries(source)) {
    const next = complete(name, value);
    const mine = table.get(name);
    if (!mine || JSON.stringify(mine) !== JSON.stringify(next)) {
      table.set(name, next);
      changed = true;
    }
  }
  for (const name of [...table.keys()]) {
    if (!(name in source)) {
      table.delete(name);
      changed = true;
    }
  }
  return changed;
}
