/**
 * The part of js-yaml that parameterArgs.ts uses. js-yaml is a devDependency
 * (the companion's bundle carries its code), and @types/js-yaml lacks `types`.
 */
declare module 'js-yaml' {
  export interface TypeOptions {
    kind: 'scalar' | 'sequence' | 'mapping';
    resolve?: (data: string) => boolean;
    construct?: (data: string) => unknown;
  }
  export class Type {
    constructor(tag: string, options: TypeOptions);
  }
  export class Schema {
    extend(types: { implicit?: Type[]; explicit?: Type[] }): Schema;
  }
  export const FAILSAFE_SCHEMA: Schema;
  export const types: { merge: Type };
  export function load(text: string, options?: { schema?: Schema; json?: boolean }): unknown;
}
