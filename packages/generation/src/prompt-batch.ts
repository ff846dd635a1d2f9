import { Tensor, VideoLlavaError, describeValue } from '@video-llava/core';

/** A left-padded prompt batch as the loop keeps it. */
export interface PromptBatch {
  /** Token ids per row, each `length` long. */
  ids: Int32Array[];
  /** 1/0 attention mask per row. */
  mask: Uint8Array[];
  length: number;
}

function toRows(value: Tensor<'int64'> | readonly (readonly number[])[], field: string): { rows: number[][] } {
  if (value instanceof Tensor) {
    if (value.dtype !== 'int64' || value.dims.length !== 2) {
      throw new VideoLlavaError(
        'SHAPE_MISMATCH',
        `${field} must be an int64 tensor [batch, length], found ${value.dtype} [${value.dims.join(', ')}].`,
        {
          field,
          expected: 'int64 [batch, length]',
          actual: `${value.dtype} [${value.dims.join(', ')}]`,
        },
      );
    }
    const [batch, length] = value.dims as [number, number];
    const rows: number[][] = [];
    for (let row = 0; row < batch; row++) {
      rows.push(Array.from(value.data.subarray(row * length, (row + 1) * length), (id) => Number(id)));
    }
    return { rows };
  }
  if (!Array.isArray(value)) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${field} must be an int64 tensor or an array of id arrays, found ${describeValue(value)}.`,
      {
        field,
        expected: 'Tensor<int64> [batch, length] or number[][]',
        actual: describeValue(value),
      },
    );
  }
  return { rows: value.map((row) => [...row]) };
}

/**
 * Validates the prompt and its mask, inferring the mask like transformers'
 * `_prepare_attention_mask_for_generation` when none is given: `ids != padTokenId` if the pad id occurs in the
 * prompt and is not an EOS id, else all ones.
 */
export function preparePromptBatch(
  inputIds: Tensor<'int64'> | readonly (readonly number[])[],
  attentionMask: Tensor<'int64'> | readonly (readonly number[])[] | undefined,
  padTokenId: number | null,
  eosTokenIds: readonly number[],
  vocabSize: number,
): PromptBatch {
  const { rows } = toRows(inputIds, 'inputIds');
  if (rows.length === 0 || rows[0]!.length === 0) {
    throw new VideoLlavaError('INVALID_ARGUMENT', 'inputIds must hold at least one row of at least one token.', {
      field: 'inputIds',
      expected: 'a non-empty [batch, length] prompt',
      actual: `[${rows.length}, ${rows[0]?.length ?? 0}]`,
    });
  }
  const length = rows[0]!.length;
  for (const [rowIndex, row] of rows.entries()) {
    if (row.length !== length) {
      throw new VideoLlavaError(
        'SHAPE_MISMATCH',
        `inputIds rows must all have the same (left-padded) length: row 0 has ${length}, row ${rowIndex} has ${row.length}.`,
        {
          field: `inputIds[${rowIndex}]`,
          expected: length,
          actual: row.length,
        },
      );
    }
    for (const [position, id] of row.entries()) {
      if (!Number.isSafeInteger(id) || id < 0 || id >= vocabSize) {
        throw new VideoLlavaError(
          'INVALID_ARGUMENT',
          `inputIds[${rowIndex}][${position}] must be a token id in [0, ${vocabSize}), found ${describeValue(id)}.`,
          {
            field: `inputIds[${rowIndex}][${position}]`,
            expected: `an integer in [0, ${vocabSize})`,
            actual: id,
          },
        );
      }
    }
  }
  let maskRows: number[][];
  if (attentionMask !== undefined) {
    maskRows = toRows(attentionMask, 'attentionMask').rows;
    if (maskRows.length !== rows.length || maskRows.some((row) => row.length !== length)) {
      throw new VideoLlavaError(
        'SHAPE_MISMATCH',
        `attentionMask must have the shape of inputIds [${rows.length}, ${length}].`,
        {
          field: 'attentionMask',
          expected: `[${rows.length}, ${length}]`,
          actual: `[${maskRows.length}, ${maskRows.map((row) => row.length).join('|')}]`,
        },
      );
    }
    for (const [rowIndex, row] of maskRows.entries()) {
      if (row.some((value) => value !== 0 && value !== 1)) {
        throw new VideoLlavaError('INVALID_ARGUMENT', `attentionMask[${rowIndex}] must hold only 0 and 1.`, {
          field: `attentionMask[${rowIndex}]`,
          expected: '0 or 1',
          actual: row.find((value) => value !== 0 && value !== 1),
        });
      }
      if (row.every((value) => value === 0)) {
        throw new VideoLlavaError(
          'INVALID_ARGUMENT',
          `attentionMask[${rowIndex}] is all zeros: the row has no real token.`,
          {
            field: `attentionMask[${rowIndex}]`,
            expected: 'at least one 1',
            actual: 'all zeros',
          },
        );
      }
    }
  } else {
    const infer =
      padTokenId !== null && !eosTokenIds.includes(padTokenId) && rows.some((row) => row.includes(padTokenId));
    maskRows = rows.map((row) => row.map((id) => (infer && id === padTokenId ? 0 : 1)));
    const empty = maskRows.findIndex((row) => row.every((value) => value === 0));
    if (empty >= 0) {
      // transformers would run such a row with nothing to attend to; a clear error is more useful.
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `inputIds[${empty}] holds only the pad id ${padTokenId}, so the inferred attention mask has no real token. Pass attentionMask explicitly, or a different padTokenId.`,
        {
          field: 'attentionMask',
          expected: 'at least one token that is not the pad id per row, or an explicit attentionMask',
          actual: `inputIds[${empty}] is all pad ids (${padTokenId})`,
        },
      );
    }
  }
  return {
    ids: rows.map((row) => Int32Array.from(row)),
    mask: maskRows.map((row) => Uint8Array.from(row)),
    length,
  };
}

/** An int64 `[rows, length]` tensor from rows of numbers. */
export function int64Tensor(rows: readonly ArrayLike<number>[], length: number): Tensor<'int64'> {
  const data = new BigInt64Array(rows.length * length);
  for (let row = 0; row < rows.length; row++) {
    const source = rows[row]!;
    for (let position = 0; position < length; position++) data[row * length + position] = BigInt(source[position]!);
  }
  return new Tensor('int64', data, [rows.length, length]);
}

/** transformers' position ids: `cumsum(mask) - 1`, with 1 where the mask is 0. */
export function positionIdsFromMask(mask: Uint8Array): Int32Array {
  const positions = new Int32Array(mask.length);
  let count = 0;
  for (let index = 0; index < mask.length; index++) {
    count += mask[index]!;
    positions[index] = mask[index] ? count - 1 : 1;
  }
  return positions;
}
