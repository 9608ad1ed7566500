// ACL 1.0 switches: `aclEnable` (or the older spelling `enableAcl`) turns on the checks in
// src/broker/acl, with the accounts of `aclConfigFile` (plain_acl.yml). A broker asked for ACL
// whose accounts file is missing must not start: it could only refuse everything or run open.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The keys that switch ACL on: RocketMQ's name, then the spelling Apogee accepted before. */
export const ACL_KEYS = ['aclEnable', 'enableAcl'] as const;

export const ACL_FILE_NAME = 'plain_acl.yml';

/** Where plain_acl.yml is looked for when aclConfigFile is empty: beside the -c file, else the working directory. */
export function defaultAclConfigFile(configFile: string | undefined): string {
  return configFile ? join(dirname(configFile), ACL_FILE_NAME) : ACL_FILE_NAME;
}

/** Why `key`=true cannot start with the accounts file `path`, or undefined when the file is there. */
export function aclFileProblem(key: string, path: string): string | undefined {
  if (existsSync(path)) return undefined;
  return `${key}=true needs the ACL accounts file ${path} (set aclConfigFile, or put ${ACL_FILE_NAME} beside the config file), which does not exist`;
}

/** Whether a broker configuration asks for ACL under either spelling. */
export function aclEnabled(c: { aclEnable: boolean; enableAcl: boolean }): boolean {
  return c.aclEnable || c.enableAcl;
}
