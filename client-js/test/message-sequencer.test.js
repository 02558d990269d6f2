import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareMessageIds, isMessageId } from '../src/index.js';
import { MessageSequencer } from '../src/message-sequencer.js';

/**
 * @param {string} id
 * @param {string | null} [group]
 * @returns {import('../src/secure-hub-client.js').ChatMessage}
 */
const message = (id, group = 'general') => ({ from: 'bob', text: `m ${id}`, group, sentAt: '2026-11-29T12:00:00Z', id });

/** @param {{ id?: string | null }[]} messages */
const ids = (messages) => messages.map((m) => m.id);

describe('message ids', () => {
  it('compares number by number, never as strings', () => {
    assert.ok(compareMessageIds('9-0', '10-0') < 0);
    assert.ok(compareMessageIds('10-0', '9-0') > 0);
    assert.ok(compareMessageIds('5-9', '5-10') < 0);
    assert.equal(compareMessageIds('1764410000000-3', '1764410000000-3'), 0);
    assert.ok(compareMessageIds('18446744073709551615-0', '18446744073709551614-9') > 0);
  });

  it('accepts only two decimal numbers joined by one hyphen, each within 64 bits', () => {
    for (const good of ['0-0', '1764410000000-0', '18446744073709551615-18446744073709551615']) {
      assert.equal(isMessageId(good), true, good);
    }

    for (const bad of ['', '1', '1-', '-1', '1-2-3', '+1-0', '1-0\n', '1-0\r\n', ' 1-0', '1.5-0', '18446744073709551616-0', 'a-0', null, 12, '١-٠']) {
      assert.equal(isMessageId(bad), false, String(bad));
    }

    assert.throws(() => compareMessageIds('1-0', 'x'), TypeError);
  });
});

describe('MessageSequencer', () => {
  it('delivers a live message once and drops a second copy of its id', () => {
    const sequencer = new MessageSequencer();

    const first = sequencer.onLive(message('1-0'));
    const again = sequencer.onLive(message('1-0'));

    assert.deepEqual(ids(first), ['1-0']);
    assert.deepEqual(again, []);
  });

  it('keeps a message older than the newest one delivered (another node published it late) and recovers from the newest', () => {
    const sequencer = new MessageSequencer();

    sequencer.onLive(message('10-0'));
    const late = sequencer.onLive(message('9-0'));

    assert.deepEqual(ids(late), ['9-0']);
    assert.deepEqual(sequencer.recoverable(), [{ group: 'general', lastId: '10-0' }]);
  });

  it('holds live messages during a recovery and delivers the recovered ones first, each once, in id order', () => {
    const sequencer = new MessageSequencer();
    sequencer.onLive(message('9-0'));
    sequencer.onLive(message('1-0', null));

    sequencer.holdAll();
    const heldLive = [sequencer.onLive(message('12-0')), sequencer.onLive(message('13-0'))];
    const recovered = sequencer.endRecovery('general', [message('10-0'), message('11-0'), message('12-0')]);
    const afterwards = sequencer.onLive(message('14-0'));
    const broadcast = sequencer.releaseHeld();

    assert.deepEqual(heldLive, [[], []]);
    assert.deepEqual(ids(recovered), ['10-0', '11-0', '12-0', '13-0']);
    assert.deepEqual(ids(afterwards), ['14-0']);
    assert.deepEqual(broadcast, []);
    assert.deepEqual(sequencer.recoverable(), [{ group: 'general', lastId: '14-0' }, { group: null, lastId: '1-0' }]);
  });

  it('drops a recovered message that was delivered live before the drop', () => {
    const sequencer = new MessageSequencer();
    sequencer.onLive(message('9-0'));
    sequencer.onLive(message('10-0'));

    sequencer.holdAll();
    const recovered = sequencer.endRecovery('general', [message('10-0'), message('11-0')]);

    assert.deepEqual(ids(recovered), ['11-0']);
  });

  it('holds nothing for a group that has delivered nothing yet, and releases what a group that was not rejoined held', () => {
    const sequencer = new MessageSequencer();
    sequencer.onLive(message('1-0', 'ops'));

    sequencer.holdAll();
    const fresh = sequencer.onLive(message('5-0', 'general'));
    const held = sequencer.onLive(message('2-0', 'ops'));
    const released = sequencer.releaseHeld();

    assert.deepEqual(ids(fresh), ['5-0']);
    assert.deepEqual(held, []);
    assert.deepEqual(ids(released), ['2-0']);
  });

  it('delivers messages without an id as they come, even while their group recovers', () => {
    const sequencer = new MessageSequencer();
    sequencer.onLive(message('1-0'));
    sequencer.holdAll();

    const withoutId = sequencer.onLive({ ...message('x'), id: null });
    const malformed = sequencer.onLive(message('1-0\n'));

    assert.equal(withoutId.length, 1);
    assert.equal(malformed.length, 1);
  });

  it('remembers the last 1,024 ids of a group: an older one is delivered again', () => {
    const sequencer = new MessageSequencer();
    for (let i = 0; i <= 1_024; i += 1) {
      sequencer.onLive(message(`${i}-0`));
    }

    const remembered = sequencer.onLive(message('1-0'));
    const forgotten = sequencer.onLive(message('0-0'));

    assert.deepEqual(ids(forgotten), ['0-0']);
    assert.deepEqual(remembered, []);
  });

  it('starts a forgotten group afresh', () => {
    const sequencer = new MessageSequencer();
    sequencer.onLive(message('1-0'));

    sequencer.forget('general');

    assert.deepEqual(sequencer.recoverable(), []);
    assert.deepEqual(ids(sequencer.onLive(message('1-0'))), ['1-0']);
  });
});
