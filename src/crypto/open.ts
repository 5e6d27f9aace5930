/** Opens the configured key material: the local keyring, the KMS built on it, the checkpoint signer. */
import { type NoteSigner, signerFromPkcs8 } from '../audit/checkpoint.ts';
import type { Config } from '../config.ts';
import type { RegistryKeys } from '../registry/persons.ts';
import { registryKeys } from '../registry/persons.ts';
import { addAuditSigningKey, type Keyring, loadKeyring, loadOrCreateKeyring } from './keyring.ts';
import { LocalKms } from './kms.ts';

export interface Keys {
  keyring: Keyring;
  kms: LocalKms;
  registry: RegistryKeys;
  /**
   * Signs the audit log's checkpoints (docs/DESIGN.md section 7). An interface, not the key: a KMS or an
   * HSM holding the Ed25519 key can stand behind it; `verifierKey` is what auditors are given.
   */
  checkpointSigner: NoteSigner;
  /** True when this call created the keyring. */
  created: boolean;
}

/**
 * Loads the keyring (creating it when `create` is set and none exists) and builds the KMS on it. A
 * keyring written before the audit log gets its checkpoint signing key added and saved here.
 */
export async function openKeys(
  config: Pick<Config, 'keyringPath'>,
  options: { create?: boolean } = {},
): Promise<Keys> {
  const { keyring, created } = options.create
    ? await loadOrCreateKeyring(config.keyringPath)
    : { keyring: await loadKeyring(config.keyringPath), created: false };
  const signing = await addAuditSigningKey(keyring);
  const kms = new LocalKms(keyring);
  return {
    keyring,
    kms,
    registry: registryKeys(keyring, kms),
    checkpointSigner: signerFromPkcs8(signing.name, signing.pkcs8),
    created,
  };
}
