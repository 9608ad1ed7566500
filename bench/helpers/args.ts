// Command-line options of the benches: `--name value` numbers and bare `--flag`s.

export interface BenchArgs {
  /** The number after --name, or def when the option is absent. */
  num(name: string, def: number): number;
  /** Whether --name is present. */
  flag(name: string): boolean;
}

export function benchArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  return {
    num(name, def) {
      const i = argv.indexOf(`--${name}`);
      return i >= 0 ? Number(argv[i + 1]) : def;
    },
    flag: (name) => argv.includes(`--${name}`),
  };
}
