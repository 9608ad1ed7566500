// LanguageCode: the JSON header carries the name, the binary header the one-byte value.
export const LanguageCode = {
  JAVA: 0,
  CPP: 1,
  DOTNET: 2,
  PYTHON: 3,
  DELPHI: 4,
  ERLANG: 5,
  RUBY: 6,
  OTHER: 7,
  HTTP: 8,
  GO: 9,
  PHP: 10,
  OMS: 11,
  RUST: 12,
  NODE_JS: 13,
} as const;

export type LanguageName = keyof typeof LanguageCode;

const byValue: string[] = [];
for (const [name, value] of Object.entries(LanguageCode)) byValue[value] = name;

export function languageFromByte(b: number): string {
  return byValue[b] ?? 'OTHER';
}

export function languageToByte(name: string): number {
  return (LanguageCode as Record<string, number>)[name] ?? LanguageCode.OTHER;
}
