// Module hook: resolve workspace packages with the `roster-source` export condition (their src/*.ts).
export async function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, 'roster-source'] });
}
