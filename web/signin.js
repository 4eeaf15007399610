// signin.js - the sign-in screen: username and password to POST /api/session, whose answer
// carries the CSRF token every later change must send.

import {post, ApiError} from './api.js';
import {h, replace, field} from './dom.js';

export function show({main, onSignedIn}) {
  document.title = 'Sign in · IMR workbench';
  const username = h('input', {name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false'});
  const password = h('input', {name: 'password', type: 'password', autocomplete: 'current-password', required: true});
  const message = h('div', {'aria-live': 'assertive'});
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Sign in');
  const form = h('form', {class: 'card', novalidate: true, 'aria-labelledby': 'signin-title'},
    h('h1', {id: 'signin-title'}, 'Sign in'),
    h('p', {class: 'muted small'}, 'Independent Medical Review: the reviewers\u2019 workbench.'),
    field('Username', username),
    field('Password', password),
    message,
    h('div', {class: 'actions'}, submit));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!username.value.trim() || !password.value) {
      replace(message, h('div', {class: 'error', role: 'alert'}, 'Enter your username and password.'));
      (username.value.trim() ? password : username).focus();
      return;
    }
    submit.disabled = true;
    try {
      const s = await post('/api/session', {username: username.value.trim(), password: password.value});
      replace(message);
      onSignedIn(s);
    } catch (err) {
      const text = err instanceof ApiError && err.status === 401
        ? 'The username or password is not right.'
        : err instanceof ApiError && err.status === 429
          ? 'Too many failed attempts for this username; wait a few minutes and try again.'
          : err.message;
      replace(message, h('div', {class: 'error', role: 'alert'}, text));
      password.select();
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });

  replace(main, h('div', {class: 'signin'}, form));
  username.focus();
  return null;
}
