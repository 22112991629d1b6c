/**
 * The panel's entry: global styles, then the root component mounted into `#app`.
 */
import { mount } from 'svelte';
import './app.css';
import 'uplot/dist/uPlot.min.css';
import App from './App.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

export default mount(App, { target });
