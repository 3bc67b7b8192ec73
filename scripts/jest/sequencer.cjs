// Files run in path order, the same on every machine (jest's default orders by past durations and
// failures kept in a cache, which makes two CI runs differ).
const Sequencer = require('@jest/test-sequencer').default;

module.exports = class PathOrder extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
};
