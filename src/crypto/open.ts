/** Opens the configured key material: the local keyring and the KMS built on it. */
import type { Config } from '../config.ts';
import type { RegistryKeys } from '../registry/persons.ts';
import { registryKeys } from '../registry/persons.ts';
import { type Keyring, loadKeyring, loadOrCreateKeyring } from './keyring.ts';
import { LocalKms } from './kms.ts';

export interface Keys {
  keyring: Keyring;
  kms: LocalKms;
  registry: RegistryKeys;
  /** True when this call created the keyring. */
  created: boolean;
}

/** Loads the keyring (creating it when `create` is set and none exists) and builds the KMS on it. */
export async function openKeys(
  config: Pick<Config, 'keyringPath'>,
  options: { create?: boolean } = {},
): Promise<Keys> {
  const { keyring, created } = options.create
    ? await loadOrCreateKeyring(config.keyringPath)
    : { keyring: await loadKeyring(config.keyringPath), created: false };
  const kms = new LocalKms(keyring);
  return { keyring, kms, registry: registryKeys(keyring, kms), created };
}
