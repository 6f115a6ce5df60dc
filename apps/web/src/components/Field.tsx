/**
 * A labelled input with its hint and its errors right below it. The errors are tied to the input
 * (`aria-describedby`, `aria-invalid`), so a screen reader reads them with the field.
 */
import { useId, type InputHTMLAttributes } from 'react';

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'prefix'> {
  label: string;
  errors?: string[];
  hint?: string;
  /** Text shown inside the input's left edge, e.g. "$". */
  prefix?: string;
}

export function Field({ label, errors = [], hint, prefix, ...input }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  // The hint gives way to the error, which says the same thing more pointedly.
  const showHint = hint !== undefined && errors.length === 0;
  const describedBy = errors.length > 0 ? errorId : showHint ? hintId : undefined;
  return (
    <div className={`field${errors.length > 0 ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <div className={prefix ? 'input-affix' : undefined}>
        {prefix && (
          <span className="input-prefix" aria-hidden="true">
            {prefix}
          </span>
        )}
        <input
          id={id}
          aria-invalid={errors.length > 0 || undefined}
          aria-describedby={describedBy}
          {...input}
        />
      </div>
      {errors.length > 0 && (
        <p id={errorId} className="field-error">
          {errors.join(' ')}
        </p>
      )}
      {showHint && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
    </div>
  );
}

/** Errors that belong to no single input, shown above the form. */
export function FormErrors({ messages }: { messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    // Focusable by script (focusFirstInvalid), not by Tab.
    <div className="alert alert-error" role="alert" tabIndex={-1}>
      {messages.map((message) => (
        <p key={message}>{message}</p>
      ))}
    </div>
  );
}
