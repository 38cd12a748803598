// pages/members.js: the people who respond, acknowledge and act: list and
// invite (name, email, administrator role).
import { call } from '../api.js';
import { h, field, fmtTime, badge, table, errorSlot, act, pageHeader, section } from '../ui.js';

export async function list(view) {
  const data = await call('/member/list', { limit: 100 });
  const name = h('input', { name: 'member_name', required: true, minlength: '2', maxlength: '39' });
  const email = h('input', { name: 'email', type: 'email' });
  const admin = h('input', { type: 'checkbox', name: 'role_ids' });
  const slot = errorSlot();
  const invite = h('button', { type: 'submit', class: 'primary' }, 'Invite');
  const form = h('form', { class: 'inline-form', 'aria-label': 'Invite a member' },
    field('Name', name), field('Email', email), h('label', { class: 'check' }, admin, ' Administrator'), invite, slot);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const member = { member_name: name.value, email: email.value };
    if (admin.checked) member.role_ids = [1];
    if (await act(invite, slot, () => call('/member/invite', { members: [member] }), form)) location.reload();
  });
  view.append(pageHeader('Members'), section('Invite', form), section('Everyone', table([
    { title: 'Name', class: 'grow', cell: (m) => m.member_name },
    { title: 'Email', cell: (m) => m.email || '—' },
    { title: 'Role', cell: (m) => ((m.account_role_ids || []).includes(1) ? badge('Admin', 'info') : 'Member') },
    { title: 'Status', cell: (m) => badge(m.status) },
    { title: 'Since', cell: (m) => fmtTime(m.created_at) },
  ], data.items || [], 'No members.', 'Members')));
}
