// Files run in path order, the same on every machine (jest's default orders by past durations and
// failures kept in a cache, which makes two CI runs differ).
import jestSequencer from '@jest/test-sequencer';

const Sequencer = jestSequencer.default ?? jestSequencer;

export default class PathOrder extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
