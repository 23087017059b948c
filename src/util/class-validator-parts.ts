/* eslint-disable @typescript-eslint/no-require-imports */
import type * as ClassValidator from 'class-validator';

/**
 * The parts of class-validator that MyRPC itself uses, loaded from their own modules. The package's index loads
 * every one of its decorators (about 120 modules), and a process that has loaded them promotes about 1.5 MB to
 * the old generation at every scavenge from then on: a client doing small calls at 64 in flight spent 4-5 ms
 * per scavenge instead of 0.3 ms (docs/BENCHMARKS.md, "What is left to gain"). These are the same modules the
 * index would load (one metadata storage, kept on `global` by class-validator itself), so DTOs decorated by an
 * application that imports 'class-validator' are seen here as usual.
 */

const CJS = 'class-validator/cjs/';

const { getMetadataStorage } = require(`${CJS}metadata/MetadataStorage`) as Pick<typeof ClassValidator, 'getMetadataStorage'>;
const { getFromContainer } = require(`${CJS}container`) as Pick<typeof ClassValidator, 'getFromContainer'>;
const { Validator } = require(`${CJS}validation/Validator`) as Pick<typeof ClassValidator, 'Validator'>;

export { getMetadataStorage };

/** class-validator's `validate(object, options)`. */
export function validate(object: object, options?: ClassValidator.ValidatorOptions): Promise<ClassValidator.ValidationError[]> {
  return getFromContainer(Validator).validate(object, options);
}

function decorator<K extends keyof typeof ClassValidator>(path: string, name: K): (typeof ClassValidator)[K] {
  return (require(`${CJS}decorator/${path}`) as typeof ClassValidator)[name];
}

/** The decorators the registry's own messages use. */
export const IsInt = decorator('typechecker/IsInt', 'IsInt');
export const IsNumber = decorator('typechecker/IsNumber', 'IsNumber');
export const IsObject = decorator('typechecker/IsObject', 'IsObject');
export const IsString = decorator('typechecker/IsString', 'IsString');
export const IsOptional = decorator('common/IsOptional', 'IsOptional');
export const ValidateNested = decorator('common/ValidateNested', 'ValidateNested');
export const Length = decorator('string/Length', 'Length');
export const Max = decorator('number/Max', 'Max');
export const Min = decorator('number/Min', 'Min');
