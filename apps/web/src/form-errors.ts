/** Sorting an API failure into messages beside inputs and messages above the form. */
import { ApiError, friendlyMessage } from './api.ts';

export interface FormErrorState {
  fields: Record<string, string[]>;
  general: string[];
}

export const noErrors: FormErrorState = { fields: {}, general: [] };

/** Items naming one of `fields` go beside that input; all others (and non-API failures) above. */
export function sortErrors(error: unknown, fields: readonly string[]): FormErrorState {
  if (!(error instanceof ApiError))
    return { fields: {}, general: ['Something went wrong. Please try again.'] };
  const state: FormErrorState = { fields: {}, general: [] };
  for (const item of error.items) {
    const message = friendlyMessage(item);
    if (item.field && fields.includes(item.field)) (state.fields[item.field] ??= []).push(message);
    else state.general.push(message);
  }
  return state;
}

export const hasErrors = (state: FormErrorState) =>
  state.general.length > 0 || Object.values(state.fields).some((messages) => messages.length > 0);

/**
 * Puts the keyboard on the first input that has an error, after React has rendered it. A group of
 * choices (the card) cannot take focus itself: its chosen input does, else its first, and a screen
 * reader reads the group's name and error with it. An error that belongs to no field ("Cannot
 * edit a reserved ticket") takes the focus itself. `form`: any element holding the inputs.
 */
export function focusFirstInvalid(form: HTMLElement | null, framesLeft = 10): void {
  requestAnimationFrame(() => {
    const invalid =
      form?.querySelector<HTMLElement>('[aria-invalid="true"]') ??
      form?.querySelector<HTMLElement>('[role="alert"]');
    const target =
      invalid instanceof HTMLFieldSetElement
        ? (invalid.querySelector<HTMLElement>('input:checked') ?? invalid.querySelector<HTMLElement>('input'))
        : invalid;
    // React may not have rendered the errors by the next frame: look again at the following ones.
    if (!target || (target as HTMLInputElement).disabled) {
      if (framesLeft > 0) focusFirstInvalid(form, framesLeft - 1);
      return;
    }
    target.focus();
  });
}
