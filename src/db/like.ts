// A search "as typed" for LIKE on either dialect (with ESCAPE '\'): the text anywhere in the
// value, its % and _ matching themselves rather than anything.

export const containing = (search: string) => `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
