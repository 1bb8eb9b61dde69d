// A list kept as JSON text (an API key's scopes and models), read back; null stays null.

export const jsonList = <T = string>(text: string | null): T[] | null => (text === null ? null : (JSON.parse(text) as T[]))
