/** The software WebAuthn authenticator lives with the drill, which runs honest owners' passkeys too. */
export * from '../../drill/virtual-authenticator.ts';
