/** torch dtypes: the single table every other dtype list is derived from. */

export type Category = 'bool' | 'int' | 'float' | 'complex';

type TypedArrayCtor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor;

/** The TypedArrays tensor contents come in. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** A torch dtype; A is the TypedArray its contents come in. */
export class DType<A extends TensorData = TensorData> {
  constructor(
    /** Name without the 'torch.' prefix, e.g. 'float32'. */
    readonly name: string,
    readonly itemsize: number,
    readonly category: Category,
    /** TypedArray for data(): float16/bfloat16 come as raw Uint16 bits, complex as interleaved re/im. */
    readonly arrayType: TypedArrayCtor & { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): A },
    readonly signed: boolean,
    /** ATen's ScalarType name, used in torch's error messages ('Float', 'Long'...). */
    readonly scalarTypeName: string,
    /** The C++ element type's name, also quoted by some of torch's messages ('long int'). */
    readonly cppTypeName: string,
  ) {}
  get is_floating_point(): boolean {
    return this.category === 'float';
  }
  get is_complex(): boolean {
    return this.category === 'complex';
  }
  get is_signed(): boolean {
    return this.signed;
  }
  toString(): string {
    return `torch.${this.name}`;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

const d = <A extends TensorData>(
  name: string,
  itemsize: number,
  category: Category,
  arrayType: TypedArrayCtor & { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): A },
  aten: string,
  cpp: string,
  signed = true,
) => new DType<A>(name, itemsize, category, arrayType, signed, aten, cpp);

export const bool = d('bool', 1, 'bool', Uint8Array, 'Bool', 'bool', false);
export const uint8 = d('uint8', 1, 'int', Uint8Array, 'Byte', 'unsigned char', false);
export const int8 = d('int8', 1, 'int', Int8Array, 'Char', 'signed char');
export const int16 = d('int16', 2, 'int', Int16Array, 'Short', 'short int');
export const int32 = d('int32', 4, 'int', Int32Array, 'Int', 'int');
export const int64 = d('int64', 8, 'int', BigInt64Array, 'Long', 'long int');
export const uint16 = d('uint16', 2, 'int', Uint16Array, 'UInt16', 'unsigned short', false);
export const uint32 = d('uint32', 4, 'int', Uint32Array, 'UInt32', 'unsigned int', false);
export const uint64 = d('uint64', 8, 'int', BigUint64Array, 'UInt64', 'unsigned long', false);
export const float16 = d('float16', 2, 'float', Uint16Array, 'Half', 'c10::Half');
export const bfloat16 = d('bfloat16', 2, 'float', Uint16Array, 'BFloat16', 'c10::BFloat16');
export const float32 = d('float32', 4, 'float', Float32Array, 'Float', 'float');
export const float64 = d('float64', 8, 'float', Float64Array, 'Double', 'double');
export const complex32 = d('complex32', 4, 'complex', Uint16Array, 'ComplexHalf', 'c10::complex<c10::Half>');
export const complex64 = d('complex64', 8, 'complex', Float32Array, 'ComplexFloat', 'c10::complex<float>');
export const complex128 = d('complex128', 16, 'complex', Float64Array, 'ComplexDouble', 'c10::complex<double>');

/** Every dtype by canonical name. */
export const DTYPES: ReadonlyMap<string, DType> = new Map(
  [bool, uint8, int8, int16, int32, int64, uint16, uint32, uint64, float16, bfloat16, float32, float64, complex32, complex64, complex128].map(
    (t) => [t.name, t],
  ),
);

/** torch's alias names (torch.float is torch.float32, ...). */
export const ALIASES = {
  float: float32,
  double: float64,
  half: float16,
  short: int16,
  int: int32,
  long: int64,
  cfloat: complex64,
  cdouble: complex128,
  chalf: complex32,
} as const;

export function dtypeFromName(name: string): DType | undefined {
  const bare = name.startsWith('torch.') ? name.slice(6) : name;
  return DTYPES.get(bare) ?? (ALIASES as Record<string, DType>)[bare];
}

/** The dtype of a TypedArray's elements (torch.tensor/frombuffer on a TypedArray). */
export function dtypeOfArray(a: ArrayBufferView): DType | undefined {
  if (a instanceof Float32Array) return float32;
  if (a instanceof Float64Array) return float64;
  if (a instanceof Int32Array) return int32;
  if (a instanceof BigInt64Array) return int64;
  if (a instanceof Int16Array) return int16;
  if (a instanceof Int8Array) return int8;
  if (a instanceof Uint8Array) return uint8;
  if (a instanceof Uint16Array) return uint16;
  if (a instanceof Uint32Array) return uint32;
  if (a instanceof BigUint64Array) return uint64;
  return undefined;
}

/** torch's default floating dtype; changing it would have to reach the runtime too, so it is fixed. */
export function get_default_dtype(): DType {
  return float32;
}

/** The complex dtype matching the default float dtype (for complex Python scalars). */
export function default_complex_dtype(): DType {
  return complex64;
}
