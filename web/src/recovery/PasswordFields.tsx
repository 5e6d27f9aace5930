/** A new password typed twice (recovery and activation), checked equal before anything is sent. */
import { PasswordInput } from '@codegouvfr/react-dsfr/blocks/PasswordInput';
import type { ReactNode } from 'react';
import { useT } from '../i18n/i18n.tsx';
import { recoveryMessages } from './messages.ts';

/** The two password fields. */
export function PasswordFields({
  value,
  onChange,
  label,
}: {
  value: { password: string; confirm: string };
  onChange(value: { password: string; confirm: string }): void;
  label: string;
}): ReactNode {
  const t = useT(recoveryMessages);
  return (
    <>
      <PasswordInput
        label={label}
        hintText={t('newPasswordHint')}
        nativeInputProps={{
          value: value.password,
          onChange: (e) => onChange({ ...value, password: e.target.value }),
          autoComplete: 'new-password',
          required: true,
          maxLength: 1024,
        }}
      />
      <PasswordInput
        label={t('confirmPassword')}
        nativeInputProps={{
          value: value.confirm,
          onChange: (e) => onChange({ ...value, confirm: e.target.value }),
          autoComplete: 'new-password',
          required: true,
          maxLength: 1024,
        }}
      />
    </>
  );
}
