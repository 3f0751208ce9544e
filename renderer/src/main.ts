import { mount } from 'svelte';
import { config as configureZod } from 'zod';
import App from './App.svelte';
import { AppState } from './state/app.svelte.js';
import { appStateContext } from './state/context.js';
import { applyTheme, cachedTheme } from './state/theme.js';
import { connect } from './transport/index.js';
import './styles/app.css';

// zod compiles object schemas with new Function() when it may; under our CSP it may not, and
// its probe would be reported as a CSP violation. It validates just as well without.
configureZod({ jitless: true });

// The last theme used, applied before anything renders, so a dark setup does not flash light
// while the core's setting is on its way.
const theme = cachedTheme();
applyTheme(theme);

const { client, connection } = connect();
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target, context: appStateContext(new AppState({ client, connection, theme })) });
